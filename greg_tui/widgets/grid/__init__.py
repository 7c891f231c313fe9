"""The occupancy grid (heatmap) and its side panel."""
