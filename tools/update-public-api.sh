#!/usr/bin/env bash
# Regenerates PublicAPI.Unshipped.txt of the packable libraries from the public API analyzer's own findings
# (RS0016: a public symbol not declared; RS0017: a declared symbol that is gone). Run it after an intended change to
# the public surface and commit the diff: the diff is the API change under review. At a release, move the entries to
# PublicAPI.Shipped.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
for project in src/Wav2Vec2 src/Wav2Vec2.MLNet src/Wav2Vec2.Onnx; do
    printf '#nullable enable\n' > "$project/PublicAPI.Unshipped.txt"
    log=$(mktemp)
    dotnet build "$project" -c Release --no-incremental -p:TreatWarningsAsErrors=false -p:BuildProjectReferences=true >"$log" 2>&1 || true
    grep -F "[$(pwd)/$project/$(basename "$project").csproj]" "$log" | grep -oP "warning RS0016: Symbol '\K.*(?=' is not part of the declared public API)" \
        | sort -u >> "$project/PublicAPI.Unshipped.txt" || true
    rm -f "$log"
    echo "$project: $(($(wc -l < "$project/PublicAPI.Unshipped.txt") - 1)) unshipped entries"
done
