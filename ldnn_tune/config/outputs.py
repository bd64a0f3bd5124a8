"""Where a command may write its output: never over, nor inside, the data it was trained on."""

from pathlib import Path

from ldnn_tune.errors import UsageError


def refuse_output_in_data(output: Path, data_dir: str | Path | None, whose: str) -> None:
    """Refuse ``output`` when it is the ``data_dir`` file, or lies inside the folder.

    ``whose`` names the data in the message ("the study's", "this ensemble's"). Written
    there, a report's plots folder read as a new class of images, and a sampled text
    replaced the text a study trained on: the data changed, and with it the study.
    """
    if not data_dir:
        return
    data = Path(data_dir).resolve()
    target = output.resolve()
    if target == data or (data.is_dir() and target.is_relative_to(data)):
        where = "is" if target == data else "is inside"
        raise UsageError(
            f"output {str(output)!r} {where} {whose} data_dir {str(data_dir)!r}: what it "
            "writes there would replace or count as data (a folder of plots as a new class, "
            "a text in place of the one trained on); write it elsewhere"
        )
