// The explorer's page: pick a policy, move its levers, and watch its effect against its comparator.
// Every change asks the server for the setting's run (POST /api/runs) and polls it until it is done;
// answers to older settings are ignored, so the page always shows the setting on screen.
"use strict";

const POLL_MS = 400;
const CHANGE_DELAY_MS = 300;
const state = { scenarios: [], current: null, values: {}, serial: 0, timer: null, delay: null, keepError: false };

const $ = (id) => document.getElementById(id);

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

async function readJson(response) {
  let body = null;
  try {
    body = await response.json();
  } catch (error) {
    body = null;
  }
  if (!response.ok) {
    const message = body && body.error ? body.error : `the server answered ${response.status}`;
    throw new Error(message);
  }
  return body;
}

function formatLever(lever, value) {
  switch (lever.kind) {
    case "rate": return `${(100 * value).toFixed(2)}%`;
    case "share": return `${Math.round(100 * value)}%`;
    case "day": return `day ${value}`;
    case "days": return `T+${value}`;
    case "switch": return value ? "on" : "off";
    default: return String(value);
  }
}

function leverValue(lever) {
  return Object.prototype.hasOwnProperty.call(state.values, lever.id) ? state.values[lever.id] : lever.value;
}

function describeScale(scale) {
  const groups = Object.entries(scale.groups)
    .map(([name, group]) => `${group.accounts.toLocaleString("en")} ${name} accounts (${Math.round(group.needs_per_day).toLocaleString("en")} trading needs a day)`)
    .join(" and ");
  const sample = scale.sample_weight > 1 ? `, each simulated account standing for ${scale.sample_weight}` : "";
  return `Each run simulates ${scale.horizon_days} business days of a scaled-down market, not Hong Kong's whole ` +
    `market: ${groups}${sample}. Every setting runs ${scale.reps} replications, and so does its comparator, on the ` +
    `same seeds, on the ${scale.where}. Amounts are this market's, in HK$.`;
}

function label(entry) {
  return entry.counterfactual ? `${entry.name} (counterfactual)` : entry.name;
}

function renderScenarioList() {
  const select = $("scenario");
  select.replaceChildren();
  for (const scenario of state.scenarios) {
    const option = document.createElement("option");
    option.value = scenario.name;
    option.textContent = label(scenario);
    select.appendChild(option);
  }
}

function leverControl(lever) {
  const box = document.createElement("div");
  box.className = `lever ${lever.kind === "switch" ? "switch" : ""}`;
  box.dataset.lever = lever.id;
  const id = `lever-${lever.id.replace(/[^A-Za-z0-9_-]/g, "-")}`;
  const labelElement = document.createElement("label");
  labelElement.htmlFor = id;
  const input = document.createElement("input");
  input.id = id;
  input.name = lever.id;
  const value = leverValue(lever);
  const output = document.createElement("output");
  if (lever.kind === "switch") {
    input.type = "checkbox";
    input.checked = Boolean(value);
    labelElement.append(input, document.createTextNode(lever.label));
  } else {
    input.type = "range";
    input.min = lever.minimum;
    input.max = lever.maximum;
    input.step = lever.step;
    input.value = value;
    output.textContent = formatLever(lever, value);
    labelElement.append(document.createTextNode(lever.label), output);
  }
  const hint = document.createElement("span");
  hint.className = "hint";
  const comparatorName = state.current.comparator.name;
  hint.textContent = lever.active_when ? `${lever.help} Default: ${formatLever(lever, lever.value)}.` :
    `${lever.help} Scenario: ${formatLever(lever, lever.value)}; ${comparatorName}: ` +
    `${formatLever(lever, lever.comparator_value)}.`;
  input.addEventListener("input", () => {
    if (lever.kind !== "switch") output.textContent = formatLever(lever, Number(input.value));
  });
  input.addEventListener("change", () => {
    state.values[lever.id] = lever.kind === "switch" ? input.checked : Number(input.value);
    if (state.values[lever.id] === lever.value) delete state.values[lever.id];
    updateActive();
    settingChanged();
  });
  box.append(labelElement);
  if (lever.kind !== "switch") box.append(input);
  box.append(hint);
  return box;
}

function renderLevers() {
  const form = $("levers");
  form.replaceChildren();
  const groups = new Map();
  for (const lever of state.current.levers) {
    if (!groups.has(lever.group)) groups.set(lever.group, []);
    groups.get(lever.group).push(lever);
  }
  let more = null;
  for (const [group, levers] of groups) {
    const fieldset = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = group;
    fieldset.append(legend, ...levers.map(leverControl));
    if (levers.some((lever) => lever.moved)) {
      form.append(fieldset);
    } else {
      if (!more) {
        more = document.createElement("details");
        const summary = document.createElement("summary");
        summary.textContent = "More levers";
        more.append(summary);
      }
      more.append(fieldset);
    }
  }
  if (more) {
    if (!form.querySelector("fieldset")) more.open = true;
    form.append(more);
  }
  updateActive();
}

function updateActive() {
  for (const lever of state.current.levers) {
    if (!lever.active_when) continue;
    const start = state.current.levers.find((other) => other.id === lever.active_when);
    const active = leverValue(start) > 0;
    const box = document.querySelector(`[data-lever="${CSS.escape(lever.id)}"]`);
    if (!box) continue;
    box.classList.toggle("inactive", !active);
    box.querySelector("input").disabled = !active;
  }
}

function updateDownload() {
  const query = new URLSearchParams({ scenario: state.current.name, levers: JSON.stringify(state.values) });
  $("download").href = `/api/download?${query}`;
}

function selectScenario(name) {
  state.current = state.scenarios.find((scenario) => scenario.name === name);
  state.values = {};
  $("scenario").value = name;
  $("description").textContent = state.current.description;
  const comparator = state.current.comparator;
  $("comparator").textContent = `Measured against ${comparator.name}` +
    (comparator.counterfactual ? ` (counterfactual: ${comparator.counterfactual})` : "") +
    (state.current.counterfactual ? `. This scenario is itself a counterfactual: ${state.current.counterfactual}` : "");
  renderLevers();
  settingChanged(0);
}

function settingChanged(delay = CHANGE_DELAY_MS) {
  updateDownload();
  clearTimeout(state.delay);
  state.delay = setTimeout(requestRun, delay);
}

async function requestRun() {
  const serial = ++state.serial;
  clearTimeout(state.timer);
  setStatus("Asking for this setting…", 0, 1);
  try {
    const response = await fetch("/api/runs", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ scenario: state.current.name, levers: state.values }),
    });
    const job = await readJson(response);
    if (!state.keepError) showError("");
    handleJob(job, serial);
  } catch (error) {
    if (serial !== state.serial) return;
    setStatus("This setting cannot run.", 0, 1, true);
    showError(error.message);
  }
}

async function poll(key, serial) {
  try {
    const job = await readJson(await fetch(`/api/runs/${encodeURIComponent(key)}`));
    handleJob(job, serial);
  } catch (error) {
    if (serial !== state.serial) return;
    setStatus("Lost track of the run.", 0, 1, true);
    showError(error.message);
  }
}

function setStatus(text, done, total, failed = false) {
  $("status-text").textContent = text;
  $("progress").max = Math.max(total, 1);
  $("progress").value = done;
  $("status").classList.toggle("failed", failed);
}

function handleJob(job, serial) {
  if (serial !== state.serial) return;  // an answer about a setting no longer on screen
  document.body.dataset.job = job.key;
  document.body.dataset.status = job.status;
  $("results").classList.toggle("stale", job.status !== "done");  // the numbers on screen are another setting's
  if (job.status === "queued" || job.status === "running") {
    const words = job.status === "queued" ? "Waiting for the run before it to finish" : "Running";
    setStatus(`${words}: ${job.done} of ${job.total} runs done…`, job.done, job.total);
    state.timer = setTimeout(() => poll(job.key, serial), POLL_MS);
  } else if (job.status === "superseded") {
    requestRun();
  } else if (job.status === "failed") {
    setStatus("The runs failed.", job.done, job.total, true);
    showError(job.error);
  } else {
    const how = job.cached ? "from the cache (this setting ran before)" :
      `${job.result.computed} runs computed and ${job.result.reused} reused from disk in ${job.seconds} s`;
    setStatus(`Done: ${how}.`, job.total, job.total);
    renderResults(job.result);
  }
}

function cell(row, text, heading, className = "") {
  const td = document.createElement("td");
  td.textContent = text;
  td.dataset.label = heading;  // shown before the number when a phone lays rows out as cards
  if (className) td.className = className;
  row.append(td);
}

function renderRows(tbody, rows) {
  tbody.replaceChildren();
  const headings = Array.from(tbody.closest("table").tHead.rows[0].cells).map((th) => th.textContent);
  for (const item of rows) {
    const row = document.createElement("tr");
    row.dataset.kpi = item.kpi;
    cell(row, item.label, headings[0]);
    cell(row, item.text.comparator, headings[1]);
    cell(row, item.text.policy, headings[2]);
    const direction = item.difference > 0 ? "up" : item.difference < 0 ? "down" : "";
    const marks = item.clear ? ` clear ${direction}` : "";
    cell(row, item.text.difference, headings[3], `difference${marks}`.trim());
    cell(row, item.text.interval, headings[4], "interval");
    tbody.append(row);
  }
}

function renderResults(result) {
  const policy = result.policy;
  const comparator = result.comparator;
  $("effect-title").textContent = `Effect of ${label(policy)} against ${label(comparator)}`;
  const notes = [comparator, policy]
    .filter((entry) => entry.counterfactual)
    .map((entry) => `${entry.name} is a counterfactual: ${entry.counterfactual}`);
  $("counterfactual-note").textContent = notes.join(" ");
  $("counterfactual-note").hidden = notes.length === 0;
  for (const table of ["fiscal", "effects"]) {
    $(`${table}-comparator`).textContent = comparator.counterfactual ? "Comparator (counterfactual)" : "Comparator";
    $(`${table}-policy`).textContent = policy.counterfactual ? "Policy (counterfactual)" : "Policy";
  }
  renderRows($("fiscal").tBodies[0], result.effects.fiscal);
  renderRows($("effects").tBodies[0], result.effects.headlines);
}

async function start() {
  $("scenario").addEventListener("change", (event) => {
    state.keepError = false;
    selectScenario(event.target.value);
  });
  $("reset").addEventListener("click", () => {
    state.values = {};
    renderLevers();
    settingChanged(0);
  });
  try {
    const catalogue = await readJson(await fetch("/api/scenarios"));
    // policies that move a lever of their own first, in the catalogue's order otherwise
    const moves = (scenario) => scenario.levers.some((lever) => lever.moved);
    state.scenarios = [...catalogue.scenarios.filter(moves), ...catalogue.scenarios.filter((s) => !moves(s))];
    $("scale").textContent = describeScale(catalogue.scale);
    renderScenarioList();
    const wanted = new URLSearchParams(window.location.search).get("scenario");
    const first = state.scenarios.find((scenario) => scenario.name === wanted) || state.scenarios[0];
    if (wanted && first.name !== wanted) {
      showError(`unknown scenario ${wanted} (on offer: ${state.scenarios.map((s) => s.name).join(", ")}); showing ${first.name}`);
      state.keepError = true;
    }
    selectScenario(first.name);
  } catch (error) {
    showError(error.message);
  }
}

start();
