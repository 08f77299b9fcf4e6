"""The staff retraining workflow (issue 6): review inbox -> label -> train -> evaluate -> promote.

A library (the console's review page calls it) and a CLI (`python -m bot.retrain --help`). One job per
module:

| module          | job                                                                         |
|-----------------|-----------------------------------------------------------------------------|
| config          | config/retrain.yml (thresholds) + where things are: `load_config()`          |
| privacy         | `redact()` (bot.redact, required) and `normalise()`                         |
| stores          | reading Rasa's tracker store and the gateway's feedback (SQLAlchemy Core)   |
| inbox           | pure selection and grouping of messages to review; `load_inbox()`           |
| labels          | writing labels into data/nlu/*.yml surgically; not-useful; new-intent ideas |
| audit           | the append-only JSON-lines audit log                                        |
| training        | `start_training()` in the background, progress from Rasa's output           |
| evaluation      | candidate vs live on tests/nlu_test.yml: metrics, report.json, PNG charts   |
| promotion       | pure promotion rules: `check_promotion()` -> (ok, reasons)                  |
| model_server    | Rasa's HTTP API: /status, PUT /model, /model/parse                           |
| deploy          | `promote()` / `rollback()`, var/retrain/live.json                           |
| export          | redacted transcripts for a date range                                       |
| retention       | `delete_older_than()`, `delete_conversation()`                              |
| cli             | argparse front end                                                          |

Importing this package does not import Rasa or TensorFlow; training and parsing run in child processes.
"""
