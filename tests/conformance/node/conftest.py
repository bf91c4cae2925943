"""Nothing under tests/conformance/node is a Python test: the npm packages are not walked."""

collect_ignore = ["node_modules"]
