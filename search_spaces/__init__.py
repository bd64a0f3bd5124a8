"""Search-space YAML files that ship with ldnn-tune (installed as ``ldnn_tune.search_spaces``).

``recipe.yaml`` holds the knobs every task shares; each task's own knobs ship in its plugin
package. Read them with :func:`ldnn_tune.space.load.space_file`.
"""
