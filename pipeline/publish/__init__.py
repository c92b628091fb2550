"""Publishing: the files, the package descriptor, every validation, the changelog, the build
record and the atomic swap into outputs/."""
