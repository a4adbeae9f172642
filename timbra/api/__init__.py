"""Adapters that speak HTTP: REST/JSON (rest.py) and, later, the SOAP services ERPs already call."""
