"""The language server (pygls 2.x over stdio): `megawatt serve`."""
