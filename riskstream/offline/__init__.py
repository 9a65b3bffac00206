"""Offline: replay and backtest through the live pipeline's functional core, no broker."""
