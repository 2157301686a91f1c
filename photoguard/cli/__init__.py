"""Typer adapters: parse, build Settings, call one library function, print, exit."""
