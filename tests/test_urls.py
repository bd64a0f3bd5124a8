"""Passwords in store URLs are hidden wherever ldnn-tune shows or records them."""

from ldnn_tune.config import defaults
from ldnn_tune.urls import redact, store_words


def test_a_password_is_hidden_in_a_url_and_in_a_command_word() -> None:
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert redact("storage=redis://:pw@h:6379/0") == "storage=redis://:***@h:6379/0"
    assert redact("mlflow=sqlite:///x.db") == "mlflow=sqlite:///x.db"
    assert redact("lr=0.1") == "lr=0.1"


def test_store_words_name_only_the_stores_off_their_defaults_with_passwords_hidden() -> None:
    assert store_words(storage=defaults.STORAGE, mlflow=defaults.MLFLOW) == []
    assert store_words(mlflow="sqlite:///other.db") == ["mlflow=sqlite:///other.db"]
    assert store_words(storage="postgresql://u:pw@h/db", mlflow=defaults.MLFLOW) == [
        "storage=postgresql://u:***@h/db"
    ]
