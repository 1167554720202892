"""Validation of the model against published results, and calibration of its cost sensitivity.

Modules, one job each:
- `zero_intelligence`: Gode & Sunder (1993) ZI-C and ZI-U traders through the project's order book;
- `runs`: the model runs the checks share (one scenario, common seeds);
- `elasticity`: volume elasticity to total transaction cost, from a stamp duty sweep;
- `calibration`: the gain-mean scaling that puts that elasticity at a target;
- `calibration_spec`, `fit_targets`, `fit_objective`, `fitted_scenario`: fitting several scenario keys to
  several published figures at once (`tokensim calibrate --spec`), and writing the fitted scenario;
- `hong_kong`: Hong Kong's 2021 rise, 2023 cut and 2015 ETF waiver as out-of-sample rows;
- `replay`: Hong Kong's 2021 stamp duty rise replayed against a counterfactual;
- `arbitrage_band`: ETF premiums against the authorised participant's band;
- `littles_law`: settlement exposure against value traded times the cycle;
- `kinds`: what a check can show (identity, calibration target, out of sample) and its drivers;
- `checks`: each result as a report row against its target, with its kind; `suite`: runs them all;
- `figures`, `report`: the report folder, written atomically (`sim.outputs.write_folder`);
- `commands`, `calibrate_command`: the `validate-model` and `calibrate` subcommands.
The method and the sources are in `docs/validation.md`.
"""
