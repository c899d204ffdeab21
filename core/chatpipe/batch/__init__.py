"""Batch runs over many conversations (the vendor-batch runner is in ``._vendor``)."""
