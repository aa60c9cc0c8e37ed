"""Data in: languages (as data), text files, parallel and choice data sets, the hub, xling's folders."""
