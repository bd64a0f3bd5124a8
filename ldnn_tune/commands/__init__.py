"""One module per ``ldnn-tune`` command."""
