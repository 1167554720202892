"""The explorer's web routes: the page, its static files, and a small JSON API.

    GET  /                      the page (static/index.html)
    GET  /static/...            its script and style, served from the package (no external assets)
    GET  /api/scenarios         the scale, and each policy with its comparator and levers
    POST /api/runs              {"scenario": NAME, "levers": {ID: VALUE}} -> the setting's job
    GET  /api/runs/{key}        a job's state, progress and, when done, its effects
    GET  /api/download?scenario=NAME&levers=JSON   the setting as a YAML scenario file

Bad input is the reader's mistake, never a traceback: an unknown scenario or job is 404, a
lever that is not the scenario's, of the wrong type or out of range is 400, a malformed request
body 422; each as `{"error": "one sentence"}`, which the page shows as it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from sim.explore.catalogue import Catalogue, NotOffered
from sim.explore.jobs import Runner
from sim.explore.levers import Lever, LeverError, levers_for, overrides
from sim.explore.setting import Setting
from sim.scenario import ScenarioError

STATIC = Path(__file__).parent / "static"


class RunRequest(BaseModel):
    """A setting asked for by the page: a policy by name and the reader's lever values."""

    scenario: str = Field(max_length=200)
    levers: dict[str, Any] = Field(default_factory=dict, max_length=100)  # each value checked by its lever


class Explorer:
    """The catalogue, each policy's levers, the runner and the scale: everything the routes need."""

    def __init__(self, catalogue: Catalogue, runner: Runner, reps: int, *, workers: int | None = None,
                 dask: str | None = None) -> None:
        self.catalogue, self.runner, self.reps = catalogue, runner, reps
        self.workers, self.dask = workers, dask
        self.levers: dict[str, list[Lever]] = {
            name: levers_for(policy.entry.data(), policy.comparator.data())
            for name, policy in catalogue.policies.items()
        }

    def setting(self, scenario: str, values: dict[str, Any]) -> Setting:
        """The setting of `scenario` with the reader's `values`; NotOffered, LeverError or ScenarioError."""
        policy = self.catalogue.policy(scenario)
        chosen = overrides(self.levers[scenario], values)
        setting = Setting(policy, tuple(chosen), tuple(self.catalogue.scale), self.reps)
        setting.scenario  # noqa: B018 - validated here, so a bad value is the request's error
        return setting

    def scale(self) -> dict[str, Any]:
        """What market the runs simulate, said plainly on the page."""
        base = self.catalogue.baseline.scenario
        groups = {name: {"accounts": group.accounts, "needs_per_day": group.needs_per_day}
                  for name, group in base.investors.items()}
        return {"horizon_days": base.horizon_days, "reps": self.reps, "overrides": self.catalogue.scale,
                "groups": groups, "sample_weight": base.sample.weight,
                "where": f"Dask scheduler {self.dask}" if self.dask else
                "local process pool, " + (f"{self.workers} worker{'s' if self.workers > 1 else ''}" if self.workers
                                          else "one worker per core")}

    def scenarios(self) -> dict[str, Any]:
        return {
            "scale": self.scale(), "baseline": self.catalogue.baseline.describe(),
            "scenarios": [{**policy.entry.describe(), "comparator": policy.comparator.describe(),
                           "levers": [lever.as_json() for lever in self.levers[name]]}
                          for name, policy in self.catalogue.policies.items()],
        }


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _readable(error: RequestValidationError) -> str:
    first = error.errors()[0] if error.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    return f"bad request: {where + ': ' if where else ''}{first.get('msg', 'invalid input')}"


def create_app(explorer: Explorer) -> FastAPI:
    """The web application serving `explorer`."""
    app = FastAPI(title="tokensim explore", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return _error(422, _readable(error))

    @app.exception_handler(NotOffered)
    async def not_found(request: Request, error: NotOffered) -> JSONResponse:
        return _error(404, str(error.args[0]) if error.args else "not found")

    @app.exception_handler(LeverError)
    async def bad_lever(request: Request, error: LeverError) -> JSONResponse:
        return _error(400, str(error))

    @app.exception_handler(ScenarioError)
    async def bad_scenario(request: Request, error: ScenarioError) -> JSONResponse:
        return _error(400, str(error))

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/api/scenarios")
    def scenarios() -> dict[str, Any]:
        return explorer.scenarios()

    @app.post("/api/runs")
    def start(request: RunRequest) -> JSONResponse:
        job = explorer.runner.submit(explorer.setting(request.scenario, request.levers))
        return JSONResponse(job.as_json(), status_code=200 if job.status == "done" else 202)

    @app.get("/api/runs/{key}")
    def status(key: str) -> dict[str, Any]:
        job = explorer.runner.job(key)
        if job is None:
            raise NotOffered(f"no run {key!r} in this session (ask for its setting again)")
        return job.as_json()

    @app.get("/api/download")
    def download(scenario: str, levers: str = "{}") -> Response:
        try:
            values = json.loads(levers)
        except ValueError:
            raise LeverError("levers: expected a JSON object of lever values") from None
        if not isinstance(values, dict):
            raise LeverError("levers: expected a JSON object of lever values")
        setting = explorer.setting(scenario, values)
        return Response(setting.yaml_text(), media_type="application/x-yaml",
                        headers={"Content-Disposition": f'attachment; filename="{setting.file_name()}"'})

    return app
