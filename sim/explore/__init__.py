"""`tokensim explore`: a local web page for "what if" questions, one lever at a time.

A reader picks a policy scenario, moves its levers, and sees the policy's paired effect against
its comparator (with 95% intervals) and the fiscal line, computed by the experiment layer on
replications with common random numbers. The package has one job per module:

* `catalogue`: the scenarios on offer, the baseline, and each policy's comparator;
* `levers`: which levers a scenario offers, their ranges, and the `--set` override each makes;
* `setting`: one setting (scenario, levers, scale), its cache key and its downloadable YAML;
* `effects`: the comparison table turned into the rows the page shows;
* `jobs`: running settings in the background (process pool or Dask), progress and the cache;
* `app`: the web routes; `static/`: the page, its script and its style (no external assets);
* `commands`: the `tokensim explore` command line.

Nothing below this layer imports it; the web framework is imported only by `app` and
`commands`, so the default install (without the `explore` extra) never needs it.
"""
