"""The bundled example application: a small order-processing job that wastes compute in the
ways Megawatt's analyzers look for. Run it with `python -m megawatt.examples.shop`."""
