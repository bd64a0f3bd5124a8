"""Every key ldnn-tune writes to a study or an MLflow run, and every artifact name, in one place.

Optuna user attributes of a study or trial, MLflow tags, and the files a run carries are
written by one module and read back by another: both import the name from here.
"""

# Optuna study user attributes
IDENTITY_ATTR = "ldnn_tune_identity"  # task, kind, seed, options, data_dir of the study
CREATOR_ATTR = "ldnn_tune_creator"  # host:pid:start of the process that set the study up
PARENT_RUN_ATTR = "mlflow_parent_run_id"  # the study's MLflow parent run
SPACES_ATTR = "ldnn_tune_spaces"  # every search space the study has run with, in order
SPACE_IN_USE_ATTR = "ldnn_tune_space_in_use"  # the number (from 1) of the space last run with
COMMANDS_ATTR = "ldnn_tune_commands"  # every run command of the study: [when, command]
# the command that runs the study's ensembles: predict, generate, or "" (none)
ENSEMBLE_USE_ATTR = "ldnn_tune_ensemble_use"

# Optuna trial user attributes
TRIAL_RUN_ATTR = "mlflow_run_id"  # the trial's MLflow run
SEED_ATTR = "seed"  # the trial's training seed
WORKER_ATTR = "worker"  # host:pid:start of the process that runs the trial
REASON_ATTR = "reason"  # why a trial was pruned or failed
HOST_ERROR_ATTR = "host_error"  # true: a failed trial's error came from ldnn-tune's own code
# how the reason of a trial the deadline cut before its first epoch ended starts: it trained
# no net, says nothing of its knobs, and is queued to run first next time
DEADLINE_CUT = "not run:"
INTERRUPTED = "interrupted"  # how the reason of a trial the user stopped starts
SURPLUS = "surplus"  # how the reason of a trial given up unstarted (over the total) starts
STOP_REASON_ATTR = "stop_reason"  # why a complete trial stopped training
BEST_EPOCH_ATTR = "best_epoch"
EPOCHS_RUN_ATTR = "epochs_run"
AVERAGED_EPOCHS_ATTR = "averaged_epochs"  # best epochs whose weights the trial kept averaged
FIRST_EPOCH_ATTR = "first_epoch_seconds"  # from the trial's start to its first validation
RESEED_OF_ATTR = "reseed_of"  # a retrain of this trial number's knobs with a new seed

# Optuna trial system attribute
HEARTBEAT_ATTR = "ldnn_tune:heartbeat"  # the clock of a journal-storage worker's last beat

# MLflow tags
ROLE_TAG = "ldnn_tune.role"  # "study" on a parent run, "ensemble" on an ensemble run
TASK_TAG = "ldnn_tune.task"
REASON_TAG = "ldnn_tune.reason"
WORKER_TAG = "ldnn_tune.worker"  # on an ensemble run: host:pid:start of the process making it
INPUTS_TAG = "ldnn_tune.inputs"  # on an ensemble run: what it was built from (its version too)
STATE_TAG = "optuna.state"  # COMPLETE, PRUNED or FAIL
BEST_TAG = "ldnn_tune.best"  # "true" on the run of the study's best trial (lowest val_loss)
TRIAL_NUMBER_TAG = "optuna.trial_number"
PARENT_RUN_TAG = "mlflow.parentRunId"  # MLflow's own: nests a run under another

# MLflow params of a trial run besides its knobs: the command's settings it trained under,
# e.g. run.epochs (apart from the knobs: a plugin may name a knob "epochs")
SETTING_PARAM_PREFIX = "run."

# MLflow artifacts of a trial run
PREDICTIONS_ARTIFACT = "predictions.npz"  # best-epoch val/test predictions and targets
WEIGHTS_ARTIFACT = "model.pt"  # best-epoch state_dict
HPARAMS_ARTIFACT = "hparams.json"  # the task, the knobs and the seed
TRACEBACK_ARTIFACT = "traceback.txt"  # where a failed trial raised

# MLflow artifacts of an ensemble run
ENSEMBLE_ARTIFACT = "ensemble.json"  # members and weights
BUNDLE_ARTIFACT = "ensemble"  # the folder `ldnn-tune predict` loads
BUNDLE_MANIFEST = "bundle.json"  # inside the bundle folder

# MLflow tags of the study's parent run, its trial runs and its experiment
NOTE_TAG = "mlflow.note.content"  # MLflow's own: the run's description (markdown)
RUN_NAME_TAG = "mlflow.runName"  # MLflow's own: the run's name
COMMAND_TAG = "ldnn_tune.command"  # on the parent run: the command the study last ran with
COMMAND_TAG_LENGTH = 5000  # MLflow's longest tag value is 8000 characters
TOP_KNOBS_TAG = "ldnn_tune.top_knobs"  # on the parent run: knobs by importance, comma-separated
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"  # MLflow's own: which view an experiment opens in
SHARED_VIEW_TAG = "mlflow.sharedViewState."  # MLflow's own prefix: a saved runs-table view

# ROLE_TAG values
STUDY_ROLE = "study"
TRIAL_ROLE = "trial"
ENSEMBLE_ROLE = "ensemble"

# MLflow artifacts of the study's parent run
PLOTS_ARTIFACT = "plots"  # folder: each plot as PNG and interactive HTML
TRIALS_ARTIFACT = "trials.csv"  # one row per trial
SUMMARY_ARTIFACT = "summary.md"  # the best trials as a markdown table
