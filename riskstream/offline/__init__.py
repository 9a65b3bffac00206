"""Offline: replay and backtest on the core the live pipeline runs, no broker."""
