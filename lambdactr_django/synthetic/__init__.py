"""Synthetic hits for trying the statistics and the admin at scale (lambdactr_seed)."""
