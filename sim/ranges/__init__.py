"""Structural ranges: policy effects under named sets of the unsourced assumptions, each refitted to the same published figures."""
