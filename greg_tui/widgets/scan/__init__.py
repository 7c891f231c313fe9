"""Scan setup (form values + validation), scan state and the progress strip."""
