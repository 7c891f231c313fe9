"""Regime model tables and the coloured transition matrix."""
