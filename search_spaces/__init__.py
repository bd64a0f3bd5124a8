"""Search-space YAML files that ship with ldnn-tune (installed as ``ldnn_tune.search_spaces``).

Read them with :func:`ldnn_tune.space.space_file`.
"""
