"""The handbook protocol: card data made as the public handbook "Reproducible Machine
Learning for Credit Card Fraud Detection - Practical Handbook" (Le Borgne, Siblini,
Lebichot, Bontempi; https://fraud-detection-handbook.github.io/fraud-detection-handbook/)
describes it, its baselines re-run on it, and riskstream's figures beside them
(``riskstream backtest handbook``; docs/offline.md#handbook-protocol).

Written from the handbook's published description (chapter 3, "Transaction data
simulator" and "Baseline feature transformation"; chapter 3, "Baseline fraud detection
system"; chapter 4, "Precision top-k metrics"), not from its notebooks.
"""
