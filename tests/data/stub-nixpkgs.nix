# Evaluates flake.nix's outputs against a stub nixpkgs: every package is its own name and
# mkShell returns its arguments, so `nix-instantiate --eval --strict` shows each devShell.
# An attribute the flake uses but nixpkgs lacks here fails the evaluation, as it would for real.
{ flakePath, packageNames }:
let
  flake = import flakePath;
  stubPkgs = { mkShell = attrs: attrs; } // builtins.listToAttrs (map (n: { name = n; value = n; }) packageNames);
  nixpkgs = {
    lib.genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    legacyPackages = builtins.listToAttrs (map (s: { name = s; value = stubPkgs; })
      [ "aarch64-darwin" "x86_64-linux" "aarch64-linux" ]);
  };
  outputs = flake.outputs { self = outputs; inherit nixpkgs; };
in
{ inherit (flake) description; devShells = outputs.devShells; }
