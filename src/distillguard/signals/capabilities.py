"""The capabilities an exchange can exercise, by name: the vocabulary that profiles,
scores, reports and the console share.

Kept apart from the text model (`capability.py`) so that reading the names costs no
scikit-learn import: a detect run's main process never classifies text (its signal
workers do), and importing scikit-learn cost it 0.6 s before anything could start.
"""

CAPABILITIES = ("coding", "agentic", "reasoning", "data_analysis", "computer_use", "vision", "chat")
