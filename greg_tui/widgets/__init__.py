"""Widgets of the app, grouped by area; pure drawing helpers live next to their widgets."""
