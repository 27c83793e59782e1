Any files placed in this directory that have a .conf ending will be loaded as
config files by the broker, in alphabetical order. Use this for your local config.
