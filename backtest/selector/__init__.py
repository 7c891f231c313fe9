"""The Greg selector (docs/selector.md): ``spec`` parses the JSON rule spec
(``greg_selector_v8.json``) into an expression tree; ``evaluate`` runs it per sample (the bots
table) and per column (sweeps)."""
