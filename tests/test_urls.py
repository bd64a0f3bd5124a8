"""Passwords in store URLs are hidden wherever ldnn-tune shows or records them."""

from ldnn_tune.urls import redact


def test_a_password_is_hidden_in_a_url_and_in_a_command_word() -> None:
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert redact("storage=redis://:pw@h:6379/0") == "storage=redis://:***@h:6379/0"
    assert redact("mlflow=sqlite:///x.db") == "mlflow=sqlite:///x.db"
    assert redact("lr=0.1") == "lr=0.1"
