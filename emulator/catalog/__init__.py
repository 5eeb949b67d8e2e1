"""Function definitions: the manifest model and the catalog loaded from the functions folder."""
