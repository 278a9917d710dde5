"""The response ladder: one Action per rung, registered in `registry.py`."""
