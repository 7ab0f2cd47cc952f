"""The entry points, one module per `task=` of src/run.py, each with `main(cfg)`:
build_mini, judge, sft, train, evaluate (task=eval) and probe. They build the library's
objects from the config and write the run directory; the library never imports them."""
