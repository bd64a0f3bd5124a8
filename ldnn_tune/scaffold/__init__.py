"""`ldnn-tune new-task`: the templates of a new task plugin package."""
