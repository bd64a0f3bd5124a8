"""Search-space YAML files that ship with ldnn-tune (installed as ``ldnn_tune.search_spaces``).

``recipe.yaml`` holds the knobs every task shares (each task's own knobs ship in its plugin
package); ``article.yaml``, ``quick-cpu.yaml`` and ``wide.yaml`` are the ready-made spaces a
user passes as ``space=article`` and so on. Read them with
:func:`ldnn_tune.space.load.space_file` and :func:`ldnn_tune.space.load.user_space_file`.
"""
