"""Fakes shared by the tests: tiny random neural models saved as local model folders."""
