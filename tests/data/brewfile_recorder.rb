# A stand-in for `brew bundle`'s Brewfile DSL: evaluates a Brewfile with real Ruby and prints
# every entry it declares as JSON, so tests can see exactly what Homebrew would be asked for.
require "json"

$entries = []

module OS
  def self.mac?
    ENV.fetch("RECORDER_OS", "mac") == "mac"
  end

  def self.linux?
    !mac?
  end
end

def tap(name, *options)
  $entries << ["tap", name]
end

def brew(name, *options)
  $entries << ["brew", name]
end

def cask(name, *options)
  $entries << ["cask", name]
end

path = ARGV.fetch(0)
TOPLEVEL_BINDING.eval(File.read(path), path)
puts JSON.generate($entries)
