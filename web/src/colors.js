// colors.js - the colour of each report status, shared by the map and its
// legend (kept apart from map.js so the legend does not load Leaflet).
export const statusColor = { new: '#d7263d', received: '#f46036', assigned: '#f4a236',
  in_progress: '#e2c044', transferred: '#8e6bbf', reopened: '#c2185b', resolved: '#2e933c',
  closed: '#34495e', rejected: '#777', duplicate: '#999',
  online: '#2e933c', degraded: '#e2c044', offline: '#d7263d', unknown: '#999' }; // cameras too
