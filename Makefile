# Entry points that work on a fresh Debian machine with Rust: each installs what it needs.
.PHONY: deps demo test check bench-quick bench ci

# pingora (via libz-ng-sys) needs cmake to build; a fresh machine lacks it.
deps:
	@command -v cmake >/dev/null 2>&1 || { \
		echo "installing cmake (needed to build pingora)"; \
		if command -v apt-get >/dev/null 2>&1; then \
			(apt-get install -y cmake || (apt-get update && apt-get install -y cmake)) >/dev/null; \
		else \
			python3 -m pip install --quiet cmake; \
		fi; \
	}

# The demo: the bundled demo IM server behind the gateway, on 127.0.0.1:8080.
demo: deps
	cargo run --release --bin imgate -- demo

# The whole test suite (unit, property, integration against real processes).
test: deps
	cargo test --workspace

# Validate the shipped configuration.
check: deps
	cargo run --release --bin imgate -- check --config conf/imgate.toml

# The load bench's quick mode: checks every scenario's answers on all three targets (a few
# seconds after the build), never a timing.
# Quick mode measures nothing, so it reuses the dev build the tests made instead of the
# fat-LTO bench profile.
bench-quick: deps
	cargo bench --profile dev --bench load -- --quick

# The measurement of record (see BENCHMARKS.md).
bench: deps
	cargo bench --bench load -- --duration 5s --json report.json --svg report.svg

ci: test
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
