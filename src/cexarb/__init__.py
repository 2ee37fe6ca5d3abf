"""cexarb: fast, correct connectors for MEXC and Gate.io, an exchange simulator and an arbitrage engine."""

__version__ = "0.1.0"
