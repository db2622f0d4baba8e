"""The lecturer's and maintainer's tools: the `vae-lesson` command line (cli), the website (site),
the lecture's slides (slides), the students' copies (handout), saving the notebooks a test run executed (executed), the timings
runner (timings), the training benchmark (bench) and set-repo (repo).

The notebooks never import this subpackage, and the helpers (the modules directly in `vae_lesson/`)
never import it either: `import vae_lesson` does not load it. Tools may import the helpers."""
