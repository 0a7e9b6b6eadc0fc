# A stdout callback for the Ansible tier: at the end of the run, one JSON
# document with every task's result per host, in the shape tests read
# ({"plays": [{"tasks": [{"task": {"name"}, "hosts": {host: result}}]}]}).
# ansible-core ships no JSON callback of its own.
from __future__ import annotations

import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: results_json
type: stdout
short_description: every task's result per host, as one JSON document
description: For ipsecctl's Ansible tier.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "results_json"

    def __init__(self):
        super().__init__()
        self.plays = []

    def v2_playbook_on_play_start(self, play):
        self.plays.append({"play": {"name": play.get_name()}, "tasks": []})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.plays[-1]["tasks"].append({"task": {"name": task.get_name()}, "hosts": {}})

    def _record(self, result, **extra):
        entry = dict(result._result)
        entry.update(extra)
        self.plays[-1]["tasks"][-1]["hosts"][result._host.get_name()] = entry

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._record(result, unreachable=True)

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats):
        # Which hosts ansible counts as failed, for the tests' messages.
        self.plays.append({"play": {"name": "stats"}, "tasks": [], "stats": {
            host: stats.summarize(host) for host in sorted(stats.processed)}})
        self._display.display(json.dumps({"plays": self.plays}, default=str))
