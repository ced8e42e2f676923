"""The model graph: what is connected to what (``plan``) and how it runs (``engine``)."""
