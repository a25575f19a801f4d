"""``python -m gateway.cli`` runs the ``aduana`` command (useful where the console script is not on PATH)."""

from gateway.cli import main

main(prog_name="aduana")
