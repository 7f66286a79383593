-- a module that returns nothing: require stores true
counter_module_runs = (counter_module_runs or 0) + 1
