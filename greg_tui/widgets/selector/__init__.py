"""The selector's bots table: sensors and per-strategy decisions."""
