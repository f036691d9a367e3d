pytest_plugins = ["tests.testbot"]
