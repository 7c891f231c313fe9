"""Greg's sensors (docs/sensors.md): ``pipeline`` computes them from raw market data for every
source; ``sources`` loads a sensor frame per underlying from the synthetic universe or real
data, with its provenance."""
