"""The package version, at the bottom of the layers so that any module (the CLI's --version, the
export's model card) can read it without importing the package facade."""
__version__ = "0.1.0"
