"""Drive a running Label Studio server through its API with label-studio-sdk, as annotators would.

Runs in the Label Studio virtual environment (``make label-studio``), not stancekit's:

    python tests/label_studio_driver.py PLAN.json

PLAN names the server, the users (created before the server started), the labeling
config and tasks written by ``stancekit export``, the annotations each user submits
(by task position; ``"skip": true`` submits a cancelled annotation) and where to write
the project's JSON export. Each user logs in, creates a personal access token and uses it
through the SDK (which exchanges it for short-lived access tokens). Before importing,
the config and every task's prediction are checked with the SDK's own validator
(``LabelInterface``); a problem stops the script with a message on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import requests
from label_studio_sdk import LabelStudio
from label_studio_sdk.label_interface import LabelInterface


def personal_access_token(url: str, email: str, password: str) -> str:
    """Log in through the login page and create a personal access token (a JWT refresh token)."""
    session = requests.Session()
    session.get(f"{url}/user/login/", timeout=30).raise_for_status()
    login = session.post(f"{url}/user/login/", data={"email": email, "password": password,
                                                     "csrfmiddlewaretoken": session.cookies["csrftoken"]},
                         headers={"Referer": f"{url}/user/login/"}, allow_redirects=False, timeout=30)
    if login.status_code != 302:
        sys.exit(f"login of {email} failed with HTTP {login.status_code}")
    created = session.post(f"{url}/api/token/", headers={"X-CSRFToken": session.cookies["csrftoken"],
                                                         "Referer": f"{url}/"}, timeout=30)
    created.raise_for_status()
    return created.json()["token"]


def check_with_sdk(config: str, tasks: list[dict]) -> None:
    """Validate the labeling config and every prediction with label-studio-sdk's LabelInterface."""
    interface = LabelInterface(config)
    interface.validate()
    for position, task in enumerate(tasks):
        errors = interface.validate_prediction(task["predictions"][0], return_errors=True)
        if errors:
            sys.exit(f"task {position}: prediction rejected by label-studio-sdk: {errors}")


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    url = plan["url"]
    config = Path(plan["config"]).read_text(encoding="utf-8")
    tasks = json.loads(Path(plan["tasks"]).read_text(encoding="utf-8"))
    check_with_sdk(config, tasks)
    clients = [LabelStudio(base_url=url, api_key=personal_access_token(url, user["email"], user["password"]))
               for user in plan["users"]]
    project = clients[0].projects.create(title="stancekit round trip", label_config=config)
    clients[0].projects.import_tasks(id=project.id, request=tasks)
    task_ids = [task.id for task in clients[0].tasks.list(project=project.id)]
    if len(task_ids) != len(tasks):
        sys.exit(f"imported {len(tasks)} tasks, the project lists {len(task_ids)}")
    for item in plan["annotations"]:
        client, task_id = clients[item["user"]], task_ids[item["task"]]
        if item.get("skip"):
            client.annotations.create(id=task_id, result=[], was_cancelled=True)
            continue
        result = [{"from_name": name, "to_name": "text", "type": "choices",
                   "value": {"choices": value if isinstance(value, list) else [value]}}
                  for name, value in item["labels"].items()]
        if item.get("notes"):
            result.append({"from_name": "notes", "to_name": "text", "type": "textarea",
                           "value": {"text": [item["notes"]]}})
        client.annotations.create(id=task_id, result=result)
    exported = clients[0].projects.exports.as_json(project.id)
    Path(plan["export"]).write_text(json.dumps(exported, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
