"""The staff retraining workflow (issue 6): review inbox -> label -> train -> evaluate -> promote.

A library (the console's review page calls it) and a CLI (`python -m bot.retrain --help`). One job per
module:

| module          | job                                                                         |
|-----------------|-----------------------------------------------------------------------------|
| config          | config/retrain.yml (gate settings) + where things are: `load_config()`      |
| privacy         | `redact()` (bot.redact, required) and `normalise()`                         |
| stores          | reading Rasa's tracker store and the gateway's feedback (SQLAlchemy Core)   |
| inbox           | pure selection and grouping of messages to review; `load_inbox()`           |
| labels          | writing labels into data/nlu/*.yml surgically; not-useful; new-intent ideas |
| audit           | the append-only JSON-lines audit log                                        |
| training        | `start_training()` in the background, progress from Rasa's output;          |
|                 | `measure_noise()`: two trainings on the same data, compared                 |
| evaluation      | both models' answers on every held-out set, the crisis set and the labels   |
|                 | since the live model; report.json (with the gate's decision), PNG charts    |
| gate            | pure promotion gate: paired bootstrap + crisis recall -> `decide()` (ok,    |
|                 | reasons, how sure), the labels check, the messages whose answer changed     |
| wording         | config/retrain_text.yml: what the gate says (reasons, verdict, labels)      |
| promotion       | `summary()`: what got better and worse, for the page and the audit log      |
| model_server    | Rasa's HTTP API: /status, PUT /model, /model/parse                           |
| deploy          | `promote()` / `rollback()`, var/retrain/live.json                           |
| export          | redacted transcripts for a date range                                       |
| retention       | `delete_older_than()`, `delete_conversation()`                              |
| cli             | argparse front end                                                          |

Importing this package does not import Rasa or TensorFlow; training and parsing run in child processes.
"""
