"""The connector's benchmark: scenarios measured against references side by side (see README.md)."""
